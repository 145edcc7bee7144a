// The technique suite (techniques-suite.ts) on a quiet host: each match within a second of its event.
import { describeTechniques } from './techniques-suite.js';

describeTechniques('idle');
