//! The wrap scheduler service.
