"""The bundled sample service the demo and the rollout tests deploy (``python -m``)."""
