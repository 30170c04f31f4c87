//! What the runner shows of the pipeline: the journal of steps and invocations, the outbox of
//! every message sent, and previews of every message rendered from samples.

pub mod journal;
pub mod outbox;
pub mod previews;
