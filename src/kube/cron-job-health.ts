import { TOOL_NAME, TOOL_NAMESPACE } from '../core/names.js';
import type { Logger } from '../log/logger.js';
import { type CronJobHealth, judgeCronJob } from '../manifests/job-health.js';
import { KubeRequestError, type KubeApi } from './kube-api.js';

/**
 * Reads the refresh's CronJob and its Jobs and judges them as the AlertingRule does.
 * Undefined when the CronJob cannot be read (no permission, API trouble): status then says
 * it could not check, and does not fail for it.
 */
export async function checkCronJobHealth(api: KubeApi, now: Date, logger: Logger): Promise<CronJobHealth | undefined> {
  const where = `${TOOL_NAMESPACE}/${TOOL_NAME}`;
  let cronJob: object | undefined;
  try {
    const found = await api.readCronJob(TOOL_NAMESPACE, TOOL_NAME);
    cronJob = typeof found === 'object' && found !== null ? found : {};
  } catch (error) {
    if (error instanceof KubeRequestError && error.status === 404) return judgeCronJob(undefined, undefined, now);
    logger.warn(`could not read the CronJob ${where} (${describe(error)}); what the alerts would say is not checked`);
    return undefined;
  }
  let jobs: object[] | undefined;
  try {
    jobs = (await api.listJobs(TOOL_NAMESPACE)).filter((j): j is object => typeof j === 'object' && j !== null);
  } catch (error) {
    logger.warn(`could not list the Jobs in ${TOOL_NAMESPACE} (${describe(error)})`);
  }
  return judgeCronJob(cronJob, jobs, now);
}

function describe(error: unknown): string {
  return error instanceof KubeRequestError ? error.message : 'request failed';
}
