// meta.k8s.io/v1 Table responses, which `kubectl get` asks for to print its columns.

import { isRecord, type KubeObject } from './objects.js';
import { SECRETS, NAMESPACES, type ResourceType } from './resources.js';

interface Column {
  name: string;
  type: string;
  format: string;
  cell: (object: KubeObject) => string | number;
}

/** Like k8s.io/apimachinery duration.HumanDuration, coarsely. */
export function age(created: string | undefined, now = Date.now()): string {
  if (!created) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours}h` : `${Math.floor(hours / 24)}d`;
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name ?? '' };
const AGE: Column = { name: 'Age', type: 'string', format: '', cell: (o) => age(o.metadata.creationTimestamp) };

function columnsOf(type: ResourceType): Column[] {
  if (type === SECRETS) {
    return [
      NAME,
      { name: 'Type', type: 'string', format: '', cell: (o) => String(o.type ?? 'Opaque') },
      { name: 'Data', type: 'string', format: '', cell: (o) => (isRecord(o.data) ? Object.keys(o.data).length : 0) },
      AGE,
    ];
  }
  if (type === NAMESPACES) {
    return [NAME, { name: 'Status', type: 'string', format: '', cell: () => 'Active' }, AGE];
  }
  return [NAME, AGE];
}

export function toTable(type: ResourceType, objects: KubeObject[], resourceVersion: string): object {
  const columns = columnsOf(type);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map(({ name, type: t, format }) => ({ name, type: t, format, description: name, priority: 0 })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

/** Whether an Accept header asks for a Table (kubectl get does, kubectl get -o json does not). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',')[0]?.includes('as=Table') ?? false;
}
