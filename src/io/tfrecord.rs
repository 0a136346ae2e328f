//! TFRecord files and `tf.train.Example` records, byte-compatible with TensorFlow.
