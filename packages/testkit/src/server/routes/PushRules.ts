// A Synapse-like default push ruleset for `GET /pushrules/` (the base rules every account starts with).
import type { CoreResponse } from "../Http.js"
import { json } from "../Http.js"
import type { Route } from "../Router.js"
import { client } from "../Router.js"

const notify = ["notify"] as const
const sound = (value: string): Record<string, unknown> => ({ set_tweak: "sound", value })
const highlight = { set_tweak: "highlight" } as const
const event = (key: string, pattern: string): Record<string, unknown> => ({ kind: "event_match", key, pattern })

const rule = (rule_id: string, conditions: ReadonlyArray<unknown>, actions: ReadonlyArray<unknown>, enabled = true): Record<string, unknown> => ({
  rule_id,
  default: true,
  enabled,
  conditions,
  actions,
})

/** The default ruleset for a user. */
export const defaultPushRules = (userId: string): Record<string, unknown> => {
  const localpart = userId.slice(1).split(":")[0] ?? ""
  return {
    global: {
      override: [
        rule(".m.rule.master", [], [], false),
        rule(".m.rule.suppress_notices", [event("content.msgtype", "m.notice")], []),
        rule(".m.rule.invite_for_me", [event("type", "m.room.member"), event("content.membership", "invite"), event("state_key", userId)], [...notify, sound("default")]),
        rule(".m.rule.member_event", [event("type", "m.room.member")], []),
        rule(".m.rule.is_user_mention", [{ kind: "event_property_contains", key: "content.m\\.mentions.user_ids", value: userId }], [...notify, highlight, sound("default")]),
        rule(".m.rule.contains_display_name", [{ kind: "contains_display_name" }], [...notify, sound("default"), highlight]),
        rule(".m.rule.is_room_mention", [{ kind: "event_property_is", key: "content.m\\.mentions.room", value: true }, { kind: "sender_notification_permission", key: "room" }], [...notify, highlight]),
        rule(".m.rule.roomnotif", [{ kind: "sender_notification_permission", key: "room" }, event("content.body", "@room")], [...notify, highlight]),
        rule(".m.rule.tombstone", [event("type", "m.room.tombstone"), event("state_key", "")], [...notify, highlight]),
        rule(".m.rule.reaction", [event("type", "m.reaction")], []),
        rule(".m.rule.room.server_acl", [event("type", "m.room.server_acl"), event("state_key", "")], []),
        rule(".m.rule.suppress_edits", [{ kind: "event_property_is", key: "content.m\\.relates_to.rel_type", value: "m.replace" }], []),
      ],
      content: [rule(".m.rule.contains_user_name", [], [...notify, sound("default"), highlight])].map((r) => ({ ...r, pattern: localpart, conditions: undefined })),
      room: [],
      sender: [],
      underride: [
        rule(".m.rule.call", [event("type", "m.call.invite")], [...notify, sound("ring")]),
        rule(".m.rule.room_one_to_one", [{ kind: "room_member_count", is: "2" }, event("type", "m.room.message")], [...notify, sound("default")]),
        rule(".m.rule.encrypted_room_one_to_one", [{ kind: "room_member_count", is: "2" }, event("type", "m.room.encrypted")], [...notify, sound("default")]),
        rule(".m.rule.message", [event("type", "m.room.message")], [...notify]),
        rule(".m.rule.encrypted", [event("type", "m.room.encrypted")], [...notify]),
      ],
    },
  }
}

const get = (userId: string): CoreResponse => json(200, defaultPushRules(userId))

/** Routes for push rules (read-only here). */
export const routes: ReadonlyArray<Route> = [
  ...client("GET", "/pushrules/", (ctx) => get(ctx.auth().userId)),
  ...client("GET", "/pushrules", (ctx) => get(ctx.auth().userId)),
]
