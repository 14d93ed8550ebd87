"""The functional core: pure state machines and the protocol content they refer to."""
