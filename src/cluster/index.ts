export * from './cluster.js';
export { RedisCluster, type RedisClusterOptions } from './redis/redis-cluster.js';
