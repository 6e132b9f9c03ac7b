// JsonOf<T>: the type T as it can be written in plain JSON.
// JSON cannot name TypeScript string-enum members (ThresholdsMode.Absolute),
// only their values ("absolute"), so every string enum is widened to the
// union of its values. Everything else, including excess-property checks on
// object literals and numeric enums, is kept as it is.
export type JsonOf<T> = T extends string
  ? string extends T
    ? T
    : `${T}`
  : T extends ReadonlyArray<infer U>
    ? Array<JsonOf<U>>
    : T extends object
      ? { [K in keyof T]: JsonOf<T[K]> }
      : T;
