//! What every function is built from, so that [`crate::functions`] holds the actions only:
//! - [`declare`]: the shape of a function's declaration (trigger, inputs, connector
//!   operation, long-running side, answer schema), said once;
//! - [`router`]: the host's forwarded requests to the declared function;
//! - [`openapi`]: the connector's Swagger, generated from the declarations;
//! - [`task_call`]: what the long-running functions share (the asynchronous pattern,
//!   idempotency, cancellation), with [`failures`] (the 422 of a failed task),
//!   [`dumps`] (failure dumps) and [`solution_logs`] (Optimizer solution logs);
//! - [`budget`]: the instance's one byte budget for transfer chunks in flight;
//! - [`transfers`]: exports to and imports from Blob storage that outlive one answer;
//! - [`data_body`]: bodies that carry data (`rows`, `cells`, `items`), read in one pass;
//! - [`records`]: the `records` format of view reads;
//! - [`timer`]: the host's JSON invocation format, for the timer functions.
//!
//! Nothing here names a function: the list of functions is [`crate::functions::FUNCTIONS`].

pub mod budget;
pub mod data_body;
pub mod declare;
pub mod dumps;
pub mod failures;
pub mod openapi;
pub mod records;
pub mod router;
pub mod solution_logs;
pub mod task_call;
pub mod timer;
pub mod transfers;
