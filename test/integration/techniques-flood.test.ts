// The technique suite (techniques-suite.ts) while another container floods the sensor with short
// programs: every technique must still raise its rule, from the right container, after the backlog.
import { describeTechniques } from './techniques-suite.js';

describeTechniques('flood');
