// pre of the legacy action: runs at job start, before the job's first step, and hands state to
// main.
import * as core from '@actions/core';

core.info(`legacy pre ran at job start on node ${process.versions.node.split('.')[0]}`);
core.saveState('mark', core.getInput('mark'));
