/**
 * pac-config: one Dojo PAC connection (one EPOS identity), shared by the nodes that use it.
 * The work is in config-runtime.ts; the editor's admin endpoints (terminal list, connection test,
 * status for the Dojo sidebar, the virtual terminal page) are in admin/.
 */
import type { PacConfigNode } from "./config-runtime";
import { ConfigRuntime } from "./config-runtime";
import { readSettings } from "./settings";
import type { ConfigCredentials, ConfigDef } from "./settings";
import { Connections } from "./connections";
import { registerAdminEndpoints } from "./admin";
import type { NodeAPI } from "./red-types";

interface ConfigNodeWithCredentials extends PacConfigNode {
  credentials?: ConfigCredentials;
}

export = function register(RED: NodeAPI): void {
  // This runtime's Dojo connections, live and drain-only (per registration, not per module).
  const connections = new Connections<ConfigRuntime>(RED);
  function PacConfig(this: ConfigNodeWithCredentials, def: ConfigDef & { id: string; type: string }): void {
    RED.nodes.createNode(this, def);
    this.users = {};
    this.pac = new ConfigRuntime(RED, this, readSettings(def, this.credentials), connections);
    this.on("close", (removed, done) => {
      void removed;
      // Drain-only while payments are open under this identity (a changed or removed connection).
      this.pac.closeForNode().then(
        () => done(),
        () => done(),
      );
    });
  }
  RED.nodes.registerType("pac-config", PacConfig, {
    credentials: {
      accountName: { type: "text" },
      apiKey: { type: "password" },
    },
  });
  registerAdminEndpoints(RED, connections);
};
