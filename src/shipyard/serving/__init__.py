"""Serving: the model server, micro-batching, routing, batch prediction, the prediction log."""
