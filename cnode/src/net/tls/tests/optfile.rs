//! Option files: every option read, every refusal naming its option.
