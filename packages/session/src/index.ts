export { sessionWorker, register } from './register.js';
export { configSchema, envOverrides, type Config } from './config.js';
export { COMPACTION_PREFIX, BRANCH_SUMMARY_PREFIX, toContext } from './messages.js';
export { escapeHtml, renderHtml } from './render-html.js';
export { renderMarkdown, fenced } from './render-markdown.js';
export { messageText, messagePreview } from './message-text.js';
