// Pre: saves state through the GITHUB_STATE file.
const fs = require('fs');
console.log(`node-greet pre: who=${process.env.INPUT_WHO}`);
fs.appendFileSync(process.env.GITHUB_STATE, 'pre_marker=from-pre\n');
