"""Developer tools for ipc-conformance (not part of the installed suite)."""
