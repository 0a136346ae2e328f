//! Files: numpy's NPY/NPZ, TensorFlow's TFRecord (with `tf.train.Example`) and TensorProto, CSV;
//! several files as one dataset; streaming sinks.

#[cfg(feature = "csv")]
pub mod csv;
pub(crate) mod element_file;
pub mod files;
#[cfg(feature = "ipc")]
pub mod ipc;
#[cfg(feature = "ipc")]
pub mod ipc_indexed;
pub mod npy;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod saved;
pub mod sink;
#[cfg(feature = "tfrecord")]
pub mod tensor_proto;
#[cfg(feature = "tfrecord")]
pub mod tfrecord;

pub mod faults;
mod temp_file;
pub(crate) use faults::FaultFile;
pub(crate) use temp_file::TempFile;
