// Main: reads INPUT_*, writes an output (multi-line syntax) and state, and a workflow command.
const fs = require('fs');
const who = process.env.INPUT_WHO;
const word = process.env['INPUT_GREETING-WORD'];
const message = `${word}, ${who}`;
console.log(`node-greet main: ${message} (pre said ${process.env.STATE_pre_marker})`);
console.log(`node-greet action path: ${process.env.GITHUB_ACTION_PATH === __dirname ? 'matches' : 'differs'}`);
fs.appendFileSync(process.env.GITHUB_OUTPUT, `message<<EOF_MSG\n${message}\nEOF_MSG\n`);
fs.appendFileSync(process.env.GITHUB_STATE, `started=${who}-started\n`);
console.log('::save-state name=legacy::via-command');
if (process.env.INPUT_FAIL === 'true') {
  console.log('::error::node-greet was asked to fail');
  process.exit(1);
}
