"""The conformance suite inside sandboxes that implement Linux themselves (gVisor's runsc)."""
