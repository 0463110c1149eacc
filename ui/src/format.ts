// The CLI's own formatters (pure modules), so the dashboard shows numbers exactly as `mlpipe compare` does.
export { formatCell, formatDelta, formatDuration, formatTime } from '../../src/render/numbers.js';
export { formatBytes } from '../../src/render/bytes.js';
