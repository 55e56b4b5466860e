// The objects the test server holds, with the bookkeeping a real API server does on writes.

import { randomUUID } from 'node:crypto';
import { clone, type KubeObject } from './objects.js';
import type { ResourceType } from './resources.js';

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class ObjectStore {
  private revision = 1;
  private readonly byType = new Map<ResourceType, Map<string, KubeObject>>();

  /** The global resourceVersion, as the string every object and list carries. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  private table(type: ResourceType): Map<string, KubeObject> {
    const table = this.byType.get(type) ?? new Map<string, KubeObject>();
    this.byType.set(type, table);
    return table;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.table(type).get(keyOf(namespace, name));
    return found && clone(found);
  }

  /** Objects of a type, in one namespace or (namespace undefined) all, sorted by namespace and name. */
  list(type: ResourceType, namespace?: string): KubeObject[] {
    return [...this.table(type).entries()]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, o]) => clone(o));
  }

  /**
   * Stores an object: a new one gets uid and creationTimestamp, an existing one keeps
   * them; either way it gets the next resourceVersion. Returns the stored copy.
   * `createdAt` backdates a new object a test seeds (the API never lets a client set it).
   */
  write(type: ResourceType, object: KubeObject, createdAt?: string): KubeObject {
    const name = object.metadata.name ?? '';
    const namespace = type.namespaced ? object.metadata.namespace : undefined;
    const previous = this.table(type).get(keyOf(namespace, name));
    this.revision += 1;
    const stored = clone(object);
    // A cluster-scoped object has no namespace, whatever the body said.
    if (!type.namespaced) delete stored.metadata.namespace;
    stored.metadata = {
      ...stored.metadata,
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      uid: previous?.metadata.uid ?? randomUUID(),
      creationTimestamp: previous?.metadata.creationTimestamp ?? createdAt ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      resourceVersion: this.resourceVersion,
    };
    this.table(type).set(keyOf(namespace, name), stored);
    return clone(stored);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const table = this.table(type);
    const found = table.get(keyOf(namespace, name));
    if (!found) return undefined;
    table.delete(keyOf(namespace, name));
    this.revision += 1;
    return found;
  }

  /** Every namespace that holds an object. */
  namespaces(): string[] {
    const names = new Set<string>();
    for (const table of this.byType.values()) {
      for (const o of table.values()) if (o.metadata.namespace) names.add(o.metadata.namespace);
    }
    return [...names];
  }

  clear(): void {
    this.byType.clear();
  }
}
