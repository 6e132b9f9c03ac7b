//! Checks one PromQL expression against the catalogue under the active prefix. (Stub.)
