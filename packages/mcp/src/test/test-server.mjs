// A tiny MCP server for the tests: run as a child process (`node test-server.mjs`, over stdio) or
// created in process with createTestServer(). Built on the SDK's low-level Server so the tool list
// (including an invalid name and odd schemas) is exactly what the tests expect.
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

export const testTools = [
  {
    name: 'get_weather',
    title: 'Weather',
    description: 'Current weather for a city',
    inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    annotations: { readOnlyHint: true, openWorldHint: true },
  },
  {
    name: 'get_pid',
    description: "The server process's id",
    inputSchema: { type: 'object', properties: {} },
    annotations: { readOnlyHint: true },
  },
  {
    name: 'update_note',
    description: 'Replace the note',
    inputSchema: {
      type: 'object',
      properties: { text: { type: 'string', maxLength: 100 } },
      required: ['text'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  },
  {
    name: 'delete_user',
    description: 'Delete a user account',
    inputSchema: {
      type: 'object',
      properties: { id: { type: 'string', pattern: '^[0-9]+$' } },
      required: ['id'],
      additionalProperties: false,
    },
    annotations: { destructiveHint: true },
    _meta: { 'example.com/owner': 'accounts' },
  },
  {
    name: 'bad tool/name',
    description: 'A name no client should see',
    inputSchema: { type: 'object' },
  },
];

export function createTestServer() {
  const server = new Server({ name: 'test-server', version: '0.1.0' }, { capabilities: { tools: { listChanged: true }, resources: {} } });
  let note = '';
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: testTools }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const args = request.params.arguments ?? {};
    const text = (value) => ({ content: [{ type: 'text', text: value }] });
    switch (request.params.name) {
      case 'get_weather':
        return text(`Sunny in ${args.city}`);
      case 'get_pid':
        return text(String(process.pid));
      case 'update_note':
        note = String(args.text);
        return text(`note: ${note}`);
      case 'delete_user':
        return text(`deleted user ${args.id}`);
      case 'bad tool/name':
        return text('should never run');
      default:
        return { content: [{ type: 'text', text: `unknown tool ${request.params.name}` }], isError: true };
    }
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: [{ uri: 'note://current', name: 'note', mimeType: 'text/plain' }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => ({
    contents: [{ uri: request.params.uri, mimeType: 'text/plain', text: `note is '${note}'` }],
  }));
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await createTestServer().connect(new StdioServerTransport());
}
