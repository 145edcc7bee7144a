// `vigil-forward` subscribes to the daemon's gRPC stream; that API lands with the API issue.
process.stderr.write('vigil-forward: not yet available: the forwarder lands with the API issue\n');
process.exitCode = 1;
