// main of the legacy action: reads what its pre step saved.
import * as core from '@actions/core';

core.info(`legacy main ran, pre saved [${core.getState('mark')}]`);
