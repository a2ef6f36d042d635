/**
 * Type level only: the columns every row of a feature's increment carries, worked out from its
 * id columns and dependencies as `inputIdColumns` does at run time (graph/feature-plan.ts). Per
 * dependency: identity → the upstream's id columns after rename; aggregation → `on` (default:
 * the feature's id columns); expansion → `on`. The feature's keys are what every dependency has.
 * Whatever is not known statically (a key string as dependency, a widened rename or lineage)
 * gives `string`, which types no key column.
 */
import type { FeatureDefinition } from "./define-feature.js";

export type IncrementKeys<Id extends string, Dep> = [Dep] extends [never]
  ? Id
  : true extends (Dep extends unknown ? IsWide<DepKeys<Dep, Id>> : never)
    ? string
    : KeysOf<AllOf<Dep extends unknown ? { keys: DepKeys<Dep, Id> } : never>>;

type IsWide<K> = string extends K ? true : false;
type KeysOf<T> = T extends { keys: infer K extends string } ? K : string;

/** `A | B` → `A & B`: the keys common to every dependency. */
type AllOf<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

type DepKeys<Dep, Id extends string> = Dep extends { readonly feature: infer Up }
  ? Dep extends { readonly lineage: infer L }
    ? LineageKeys<L, Dep, Up, Id>
    : IdentityKeys<Up, RenameOf<Dep>>
  : IdentityKeys<Dep, null>;

type LineageKeys<L, Dep, Up, Id extends string> = L extends undefined | { readonly type: "identity" }
  ? IdentityKeys<Up, RenameOf<Dep>>
  : L extends { readonly type: "aggregation"; readonly on: readonly never[] | null }
    ? Id
    : L extends {
          readonly type: "aggregation" | "expansion";
          readonly on: readonly (infer On extends string)[] | null;
        }
      ? On
      : string;

type RenameOf<Dep> = Dep extends { readonly rename?: infer R } ? R : null;

type IdentityKeys<Up, R> =
  Up extends FeatureDefinition<any, infer UpId>
    ? R extends Readonly<Record<string, string>>
      ? UpId extends keyof R
        ? R[UpId]
        : UpId
      : UpId
    : string;
