//! The generator: catalogue + environment profile + specs -> check -> model -> renderers -> atomic
//! write. (Stub.)
