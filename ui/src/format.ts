// The CLI's own formatters (pure modules), so the dashboard shows numbers exactly as `mlpipe compare` does.
export { formatCell, formatDelta, formatDuration, formatTime } from '../../src/core/format/numbers.js';
export { formatBytes } from '../../src/core/format/bytes.js';
