/**
 * @module protocol/lists
 * MCP's four list methods, once: the result field that holds the items, what names an item,
 * the capability that offers the list, the call an item stands for, the notification that says
 * the list changed, and whether a federation prefixes its items' names with the server's.
 * The policy (what each caller is shown) and the federation (merged lists) both read it.
 */

export interface ListMethod {
  /** The result's field holding the items. */
  field: 'tools' | 'prompts' | 'resources' | 'resourceTemplates';
  /** The item's field that names it. */
  key: 'name' | 'uri' | 'uriTemplate';
  /** The server capability that offers the list. */
  capability: 'tools' | 'prompts' | 'resources';
  /** The call an item of the list stands for. */
  call: { method: 'tools/call' | 'prompts/get' | 'resources/read'; kind: 'tool' | 'prompt' | 'resource' };
  /** The notification that says the list changed. */
  changed: string;
  /** Named by a server prefix behind a federation (tools and prompts; resources keep their URIs). */
  named: boolean;
}

export const LIST_METHODS: Readonly<Record<string, ListMethod>> = {
  'tools/list': {
    field: 'tools',
    key: 'name',
    capability: 'tools',
    call: { method: 'tools/call', kind: 'tool' },
    changed: 'notifications/tools/list_changed',
    named: true,
  },
  'prompts/list': {
    field: 'prompts',
    key: 'name',
    capability: 'prompts',
    call: { method: 'prompts/get', kind: 'prompt' },
    changed: 'notifications/prompts/list_changed',
    named: true,
  },
  'resources/list': {
    field: 'resources',
    key: 'uri',
    capability: 'resources',
    call: { method: 'resources/read', kind: 'resource' },
    changed: 'notifications/resources/list_changed',
    named: false,
  },
  'resources/templates/list': {
    field: 'resourceTemplates',
    key: 'uriTemplate',
    capability: 'resources',
    call: { method: 'resources/read', kind: 'resource' },
    changed: 'notifications/resources/list_changed',
    named: false,
  },
};

/** Every list_changed notification, once each. */
export const LIST_CHANGED_NOTIFICATIONS: readonly string[] = [...new Set(Object.values(LIST_METHODS).map((list) => list.changed))];
