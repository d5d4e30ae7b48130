//! The latency model and the search.
