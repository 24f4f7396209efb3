console.log(`node-cleanup post tag=${process.env.INPUT_TAG}`);
