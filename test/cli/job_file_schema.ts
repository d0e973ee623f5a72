/**
 * A small structural schema check for the job files in sweeps/examples/: the fields of the Kubernetes
 * ConfigMap, PersistentVolumeClaim and Job (batch/v1) and of a GitHub Actions workflow that the examples
 * rely on, with their types and allowed values. A field the schema does not know is an error, so a typo
 * (`completionmode`) or a field added to an example without being checked here fails the test.
 */

export type Schema =
  | 'string'
  | 'integer'
  | 'boolean'
  | 'scalar'
  /** A Kubernetes quantity: "2", "500m", "2Gi", or a number. */
  | 'quantity'
  | { enum: readonly (string | number | boolean)[] }
  | { pattern: RegExp }
  | { array: Schema; minItems?: number }
  /** An object with these fields (those in `required` must be present); others are errors. */
  | { fields: Record<string, Schema>; required?: readonly string[] }
  /** An object whose keys match `keys` and whose values all match `values`. */
  | { map: Schema; keys?: RegExp }
  | { oneOf: readonly Schema[] };

/** The problems of `value` against `schema`, each with its path. */
export function checkSchema(value: unknown, schema: Schema, path = '$'): string[] {
  const problems: string[] = [];
  const add = (p: string) => problems.push(`${path}: ${p} (found ${JSON.stringify(value)?.slice(0, 60)})`);
  if (schema === 'string') {
    if (typeof value !== 'string') add('expected a string');
  } else if (schema === 'integer') {
    if (!Number.isInteger(value)) add('expected an integer');
  } else if (schema === 'boolean') {
    if (typeof value !== 'boolean') add('expected a boolean');
  } else if (schema === 'scalar') {
    if (!['string', 'number', 'boolean'].includes(typeof value)) add('expected a string, number or boolean');
  } else if (schema === 'quantity') {
    if (!(typeof value === 'number' || (typeof value === 'string' && /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.test(value)))) add('expected a quantity such as "2", "500m" or "2Gi"');
  } else if ('enum' in schema) {
    if (!schema.enum.includes(value as string)) add(`expected one of ${schema.enum.join(', ')}`);
  } else if ('pattern' in schema) {
    if (typeof value !== 'string' || !schema.pattern.test(value)) add(`expected a string matching ${schema.pattern}`);
  } else if ('array' in schema) {
    if (!Array.isArray(value)) add('expected a list');
    else {
      if (schema.minItems !== undefined && value.length < schema.minItems) add(`expected at least ${schema.minItems} items`);
      value.forEach((item, i) => problems.push(...checkSchema(item, schema.array, `${path}[${i}]`)));
    }
  } else if ('fields' in schema) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) add('expected an object');
    else {
      for (const name of schema.required ?? []) if (!(name in value)) problems.push(`${path}: the required field ${name} is missing`);
      for (const [name, v] of Object.entries(value)) {
        const field = schema.fields[name];
        if (!field) problems.push(`${path}: unknown field ${name} (known: ${Object.keys(schema.fields).join(', ')})`);
        else problems.push(...checkSchema(v, field, `${path}.${name}`));
      }
    }
  } else if ('map' in schema) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) add('expected an object');
    else {
      for (const [name, v] of Object.entries(value)) {
        if (schema.keys && !schema.keys.test(name)) problems.push(`${path}: key ${JSON.stringify(name)} does not match ${schema.keys}`);
        problems.push(...checkSchema(v, schema.map, `${path}.${name}`));
      }
    }
  } else if ('oneOf' in schema) {
    const results = schema.oneOf.map((s) => checkSchema(value, s, path));
    if (!results.some((r) => r.length === 0)) problems.push(...results.sort((a, b) => a.length - b.length)[0]);
  }
  return problems;
}

// ---- Kubernetes (the fields of core/v1 and batch/v1 the examples use) ----

const dnsLabel: Schema = { pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/ };
const dnsSubdomain: Schema = { pattern: /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/ };
const metadata: Schema = { fields: { name: dnsSubdomain, labels: { map: 'string' } }, required: ['name'] };
const resourceList: Schema = { fields: { cpu: 'quantity', memory: 'quantity' } };

const envVar: Schema = {
  fields: {
    name: { pattern: /^[-._a-zA-Z][-._a-zA-Z0-9]*$/ },
    // A number here is refused by the API server: env values are strings.
    value: 'string',
    valueFrom: {
      fields: {
        resourceFieldRef: {
          fields: { containerName: dnsLabel, resource: { enum: ['limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory'] }, divisor: 'quantity' },
          required: ['resource'],
        },
      },
    },
  },
  required: ['name'],
};

const container: Schema = {
  fields: {
    name: dnsLabel,
    image: 'string',
    imagePullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
    command: { array: 'string' },
    args: { array: 'string' },
    env: { array: envVar },
    resources: { fields: { requests: resourceList, limits: resourceList } },
    volumeMounts: { array: { fields: { name: dnsLabel, mountPath: { pattern: /^\// }, readOnly: 'boolean' }, required: ['name', 'mountPath'] } },
  },
  required: ['name', 'image'],
};

const volume: Schema = {
  fields: {
    name: dnsLabel,
    configMap: { fields: { name: dnsSubdomain, items: { array: { fields: { key: 'string', path: 'string' }, required: ['key', 'path'] } } }, required: ['name'] },
    persistentVolumeClaim: { fields: { claimName: dnsSubdomain, readOnly: 'boolean' }, required: ['claimName'] },
  },
  required: ['name'],
};

const podSpec: Schema = {
  fields: {
    // A Job's pods may not restart Always.
    restartPolicy: { enum: ['Never', 'OnFailure'] },
    initContainers: { array: container },
    containers: { array: container, minItems: 1 },
    volumes: { array: volume },
  },
  required: ['restartPolicy', 'containers'],
};

export const KUBERNETES_SCHEMAS: Record<string, Schema> = {
  ConfigMap: { fields: { apiVersion: { enum: ['v1'] }, kind: { enum: ['ConfigMap'] }, metadata, data: { map: 'string', keys: /^[-._a-zA-Z0-9]+$/ } }, required: ['apiVersion', 'kind', 'metadata'] },
  PersistentVolumeClaim: {
    fields: {
      apiVersion: { enum: ['v1'] },
      kind: { enum: ['PersistentVolumeClaim'] },
      metadata,
      spec: {
        fields: {
          accessModes: { array: { enum: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] }, minItems: 1 },
          storageClassName: 'string',
          resources: { fields: { requests: { fields: { storage: 'quantity' }, required: ['storage'] } }, required: ['requests'] },
        },
        required: ['accessModes', 'resources'],
      },
    },
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
  },
  Job: {
    fields: {
      apiVersion: { enum: ['batch/v1'] },
      kind: { enum: ['Job'] },
      metadata,
      spec: {
        fields: {
          completionMode: { enum: ['NonIndexed', 'Indexed'] },
          completions: 'integer',
          parallelism: 'integer',
          backoffLimit: 'integer',
          template: { fields: { spec: podSpec }, required: ['spec'] },
        },
        required: ['template'],
      },
    },
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
  },
};

// ---- GitHub Actions (the workflow keys the example uses, and those Actions requires) ----

const expressionOr = (s: Schema): Schema => ({ oneOf: [s, { pattern: /^\$\{\{.*\}\}$/ }] });
const step: Schema = {
  fields: {
    name: 'string',
    id: { pattern: /^[A-Za-z_][A-Za-z0-9_-]*$/ },
    if: 'string',
    uses: { pattern: /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.\/-]+@[A-Za-z0-9_.-]+$/ },
    with: { map: 'scalar' },
    run: 'string',
    env: { map: 'scalar' },
    shell: 'string',
    'working-directory': 'string',
    'continue-on-error': 'boolean',
    'timeout-minutes': 'integer',
  },
};
const job: Schema = {
  fields: {
    name: 'string',
    needs: { oneOf: ['string', { array: 'string' }] },
    'runs-on': 'string',
    'timeout-minutes': 'integer',
    if: 'string',
    env: { map: 'scalar' },
    strategy: {
      fields: {
        'fail-fast': 'boolean',
        'max-parallel': 'integer',
        matrix: { map: { array: 'scalar', minItems: 1 }, keys: /^[A-Za-z_][A-Za-z0-9_-]*$/ },
      },
      required: ['matrix'],
    },
    steps: { array: step, minItems: 1 },
  },
  required: ['runs-on', 'steps'],
};

export const WORKFLOW_SCHEMA: Schema = {
  fields: {
    name: 'string',
    on: {
      fields: {
        workflow_dispatch: {
          fields: {
            inputs: {
              map: { fields: { description: 'string', required: 'boolean', default: 'scalar', type: { enum: ['string', 'boolean', 'number', 'choice', 'environment'] } } },
              keys: /^[A-Za-z_][A-Za-z0-9_-]*$/,
            },
          },
        },
      },
    },
    env: { map: expressionOr('scalar') },
    jobs: { map: job, keys: /^[A-Za-z_][A-Za-z0-9_-]*$/ },
  },
  required: ['on', 'jobs'],
};
