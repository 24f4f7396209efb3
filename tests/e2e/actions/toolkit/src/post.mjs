// post of the toolkit action: the state main saved.
import * as core from '@actions/core';

core.info(`post state=${core.getState('started')}`);
