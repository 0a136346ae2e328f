//! tf.data pipelines written as JSON (the format of TensorFlow's golden fixtures).
