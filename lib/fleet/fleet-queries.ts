/**
 * Questions asked of a resolved fleet (which service, which alarm, which secret).
 * Apart from fleet.ts, which parses fleet files, so Lambda bundles that read the
 * bundled (already validated) fleet carry no schema library code for it.
 */
import type { AlarmDefinition, HaltAlarmDefinition, ScalingAlarmDefinition } from './fleet-schema';
import type { Fleet, FleetSecret, FleetService } from './fleet';

/** The service with this fleet id; own keys only, so a request naming `constructor` finds nothing. */
export function fleetService(fleet: Fleet, id: string): FleetService | undefined {
  return Object.hasOwn(fleet.services, id) ? fleet.services[id] : undefined;
}

export function serviceByEcsName(fleet: Fleet, ecsServiceName: string): FleetService | undefined {
  return Object.values(fleet.services).find((s) => s.ecsServiceName === ecsServiceName);
}

/** Every rollback alarm of the fleet, with the service it rolls back. */
export function fleetAlarms(fleet: Fleet): { service: FleetService; alarm: AlarmDefinition }[] {
  return Object.values(fleet.services).flatMap((service) => service.rollbackAlarms.map((alarm) => ({ service, alarm })));
}

/** What an alarm going into ALARM means, as the fleet file classifies it. */
export type AlarmClass =
  | { readonly kind: 'rollback'; readonly alarm: AlarmDefinition; readonly service: FleetService }
  | { readonly kind: 'halt'; readonly alarm: HaltAlarmDefinition; readonly services: readonly string[] }
  | { readonly kind: 'notify'; readonly alarm: AlarmDefinition }
  | { readonly kind: 'scale'; readonly alarm: ScalingAlarmDefinition; readonly service: FleetService };

/** Every alarm the fleet defines (rollback, halt and notify), classified. */
export function classifiedAlarms(fleet: Fleet): AlarmClass[] {
  return [
    ...fleetAlarms(fleet).map(({ service, alarm }) => ({ kind: 'rollback' as const, alarm, service })),
    ...(fleet.halt?.alarms ?? []).map((alarm) => ({ kind: 'halt' as const, alarm, services: alarm.services ?? tradingServices(fleet) })),
    ...fleet.notifyAlarms.map((alarm) => ({ kind: 'notify' as const, alarm })),
    ...Object.values(fleet.services).flatMap((service) => (service.scaling?.alarms ?? []).map((alarm) => ({ kind: 'scale' as const, alarm, service }))),
  ];
}

export function classifyAlarm(fleet: Fleet, alarmName: string): AlarmClass | undefined {
  return classifiedAlarms(fleet).find((c) => c.alarm.name === alarmName);
}

/** Ids of the fleet's trading services, in deploy order. */
export function tradingServices(fleet: Fleet): string[] {
  return fleet.deployOrder.filter((id) => fleet.services[id]?.role === 'trading');
}

/** The consumers of a secret, in dependency order (dependencies first). */
export function secretConsumers(fleet: Fleet, secretId: string): string[] {
  const consumers = new Set(fleet.secrets[secretId]?.consumers ?? []);
  return fleet.deployOrder.filter((id) => consumers.has(id));
}

/** The managed secret with this id, Secrets Manager name or ARN (ARNs end in the name plus a 6-character suffix). */
export function findSecret(fleet: Fleet, idNameOrArn: string): FleetSecret | undefined {
  return Object.values(fleet.secrets).find(
    (s) =>
      s.id === idNameOrArn ||
      s.name === idNameOrArn ||
      new RegExp(`:secret:${s.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[A-Za-z0-9]{6}$`).test(idNameOrArn),
  );
}
