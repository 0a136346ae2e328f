//! Files: numpy's NPY/NPZ, TensorFlow's TFRecord (with `tf.train.Example`) and TensorProto.

pub mod npy;
pub mod tensor_proto;
pub mod tfrecord;
