/**
 * The config files as JSON Schema (draft 2020-12), generated from the zod schemas that validate them, so the
 * two never disagree: what `loopy config-schema` prints and what contrib/ ships for editors (a file's
 * "$schema" key names it). Input form: keys with defaults are optional, as a file may leave them out.
 */
import { z } from 'zod';
import { detectionConfigSchema } from '../detect/config.js';
import { agentConfigSchema } from './config.js';

export const CONFIG_KINDS = {
  agent: { title: "Loopy agent config (/etc/loopy/agent.json, --config FILE)", file: 'loopy-agent.schema.json', schema: () => agentConfigSchema },
  detection: { title: 'Loopy detection config (detectConfig, --detect-config FILE)', file: 'loopy-detection.schema.json', schema: () => detectionConfigSchema() },
} as const;

export type ConfigKind = keyof typeof CONFIG_KINDS;

export function configJsonSchema(kind: ConfigKind): Record<string, unknown> {
  const { title, schema } = CONFIG_KINDS[kind];
  // Refinements (a CIDR that parses, a date) cannot be said in JSON Schema: the agent still checks them.
  const json = z.toJSONSchema(schema(), { io: 'input', unrepresentable: 'any' });
  return { $schema: json.$schema, title, ...json };
}

/** The schema as the file in contrib/ holds it and `loopy config-schema` prints it. */
export function configJsonSchemaText(kind: ConfigKind): string {
  return `${JSON.stringify(configJsonSchema(kind), null, 2)}\n`;
}
