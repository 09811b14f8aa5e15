import type { ServerToolResultBlock } from '@iii-harness/types';
import { refusalText, summarizeServerResult } from '../../src/chat/vendor-blocks.js';

const result = (result_type: string, content: ServerToolResultBlock['content'], is_error?: boolean) =>
  summarizeServerResult({
    type: 'server_tool_result',
    tool_use_id: 't',
    result_type,
    content,
    ...(is_error ? { is_error } : {}),
  });

describe('vendor tool results in a few lines', () => {
  test('web search: the count, the first pages, how many more', () => {
    const pages = Array.from({ length: 5 }, (_, i) => ({
      type: 'web_search_result',
      url: `https://e.com/${i}`,
      title: `P${i}`,
    }));
    expect(result('web_search_tool_result', pages)).toEqual({
      lines: ['5 results', 'P0 — https://e.com/0', 'P1 — https://e.com/1', 'P2 — https://e.com/2', '+2 more'],
      is_error: false,
    });
  });

  test('web fetch, code execution, tool search', () => {
    expect(
      result('web_fetch_tool_result', {
        type: 'web_fetch_result',
        url: 'https://e.com/a',
        content: { type: 'document', title: 'A page' },
      }).lines,
    ).toEqual(['fetched A page — https://e.com/a']);
    expect(
      result('code_execution_tool_result', {
        type: 'code_execution_result',
        stdout: '4\n',
        stderr: '',
        return_code: 0,
      }),
    ).toEqual({ lines: ['exit 0', '4'], is_error: false });
    expect(
      result('bash_code_execution_tool_result', {
        type: 'bash_code_execution_result',
        stdout: '',
        stderr: 'boom',
        return_code: 2,
      }),
    ).toEqual({ lines: ['exit 2', 'stderr: boom'], is_error: true });
    expect(
      result('tool_search_tool_result', {
        type: 'tool_search_tool_search_result',
        tool_references: [{ type: 'tool_reference', tool_name: 'get_weather' }],
      }).lines,
    ).toEqual(['found get_weather']);
  });

  test('errors name their code; unknown shapes fall back to their JSON', () => {
    expect(
      result('web_search_tool_result', { type: 'web_search_tool_result_error', error_code: 'max_uses_exceeded' }),
    ).toEqual({
      lines: ['error: max_uses_exceeded'],
      is_error: true,
    });
    expect(result('x_tool_result', { weird: true }, true).is_error).toBe(true);
    expect(result('x_tool_result', { weird: true }).lines).toEqual(['{"weird":true}']);
  });

  test('refusals: declined by the model or cut by a filter', () => {
    expect(refusalText(undefined)).toBe('the model declined to answer');
    expect(refusalText({ type: 'content_filter' })).toBe("the vendor's content filter stopped the reply");
  });
});
