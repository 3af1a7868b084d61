/**
 * Metrics for the pgas-run dashboard: ranks publish (publish.ts), the launcher validates what arrives
 * (record.ts). See runtime/launcher/dashboard/.
 */
export { FEED_ENV, metricsDue, metricsFeedEnabled, publishLoss, publishMetrics, type RankMetrics } from './publish.js';
export { MAX_RECORD_BYTES, MetricsRecordError, parseMetricsRecord, type MetricsRecord } from './record.js';
