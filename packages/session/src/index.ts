export { type Config, configSchema, envOverrides } from './config.js';
export { messagePreview, messageText } from './message-text.js';
export { BRANCH_SUMMARY_PREFIX, COMPACTION_PREFIX, toContext } from './messages.js';
export { register, sessionWorker } from './register.js';
export { escapeHtml, renderHtml } from './render-html.js';
export { fenced, renderMarkdown } from './render-markdown.js';
