// Holds one running runc container (busybox sleeping) for shell benchmarks that need a container on
// the host, such as bench/footprint.sh: prints its id once it runs, deletes it on SIGTERM or SIGINT.
// Usage: node dist/js/bench/hold-container.js   (root, runc)
import { startContainer } from '../test/runc.js';

const c = startContainer({ args: ['sleep', '86400'] });
process.stdout.write(`${c.id}\n`);
const stop = (): void => {
  c.delete();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => undefined, 1 << 30);
