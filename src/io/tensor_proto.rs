//! TensorFlow's `TensorProto`: tensors to and from its wire format (`tf.make_tensor_proto` / `tf.make_ndarray`).
