/**
 * What the runtime has deployed: pac-config nodes by id, their flow definitions, their saved
 * credentials. Read fresh on every request: a deploy may have changed any of them.
 */
import { ConfigRuntime } from "../config-runtime";
import type { PacConfigNode } from "../config-runtime";
import type { ConfigCredentials, ConfigDef } from "../settings";
import type { AdminNodeAPI } from "./http";

/** A deployed pac-config node, or undefined. */
export function configNode(RED: AdminNodeAPI, id: string): PacConfigNode | undefined {
  if (!id) return undefined;
  const node = RED.nodes.getNode(id) as PacConfigNode | null;
  return node && node.type === "pac-config" && node.pac instanceof ConfigRuntime ? node : undefined;
}

/** The flow definitions of every pac-config node deployed now. */
export function configDefs(RED: AdminNodeAPI): Map<string, ConfigDef> {
  const defs = new Map<string, ConfigDef>();
  try {
    RED.nodes.eachNode?.((def) => {
      if (def && def.type === "pac-config") defs.set(def.id, def);
    });
  } catch {
    /* older runtimes: no definitions */
  }
  return defs;
}

export function savedCredentials(RED: AdminNodeAPI, id: string): ConfigCredentials {
  if (!id) return {};
  try {
    return RED.nodes.getCredentials?.(id) ?? {};
  } catch {
    return {};
  }
}
