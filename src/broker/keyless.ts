/**
 * Keyless topics (`channelKeys: false`): clients write channels without a key, MQTT-style (`room/1`, the
 * trailing slash optional), and the broker reads each one as if it carried the key it holds for `#/` (all
 * permissions), so the channel-key path (parse, grant cache, SSIDs, storage, presence) runs unchanged.
 * `emitter/...` requests keep their form. Runs only when a topic is parsed (a repeated topic is not).
 */
export function keyedTopic(key: string | undefined, topic: string): string {
  if (key === undefined || topic.startsWith('emitter/')) return topic;
  const query = topic.indexOf('?');
  const path = query < 0 ? topic : topic.slice(0, query);
  const slash = path.endsWith('/') ? '' : '/';
  return query < 0 ? `${key}/${topic}${slash}` : `${key}/${path}${slash}${topic.slice(query)}`;
}
