// The `vigil` CLI talks to the daemon over gRPC; that API lands with the API issue.
process.stderr.write('vigil: not yet available: the gRPC API and CLI land with the API issue; use `vigild trace` meanwhile\n');
process.exitCode = 1;
