//! Files: numpy's NPY/NPZ, TensorFlow's TFRecord (with `tf.train.Example`) and TensorProto, CSV;
//! several files as one dataset; streaming sinks.

pub mod csv;
pub mod files;
pub mod ipc;
pub mod ipc_indexed;
pub mod npy;
pub mod parquet;
pub mod sink;
pub mod tensor_proto;
pub mod tfrecord;

mod temp_file;
pub(crate) use temp_file::TempFile;
