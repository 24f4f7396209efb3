// @actions/http-client: a lookup of a key nobody saved on the runner's actions/cache server, by
// the URL the job was given (ACTIONS_CACHE_URL, reached through the job's proxy): 401 without the
// runtime token, 204 (a miss) with it.
import * as core from '@actions/core';
import { HttpClient } from '@actions/http-client';

async function run() {
    const url = `${process.env.ACTIONS_CACHE_URL}_apis/artifactcache/cache?keys=never-saved&version=1`;
    const client = new HttpClient('nixjail-toolkit-fixture');
    const anonymous = await client.get(url);
    const body = await anonymous.readBody();
    core.info(`http-client anonymous status=${anonymous.message.statusCode} body=${body}`);
    const token = process.env.ACTIONS_RUNTIME_TOKEN;
    const authorized = await client.get(url, { authorization: `Bearer ${token}` });
    await authorized.readBody();
    core.info(`http-client authorized status=${authorized.message.statusCode}`);
    core.setOutput('statuses', `${anonymous.message.statusCode},${authorized.message.statusCode}`);
}

run().catch((e) => core.setFailed(`toolkit http: ${e.stack || e}`));
