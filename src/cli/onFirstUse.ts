import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"

/** The service `tag` of the layer `load` imports, loaded and built in the current scope the first time it is used. */
export const onFirstUse = <I, S>(
  tag: Context.Tag<I, S>,
  load: () => Promise<Layer.Layer<I>>
): Effect.Effect<Effect.Effect<S>, never, Scope.Scope> =>
  Effect.flatMap(Effect.scope, (scope) =>
    Effect.cached(
      Effect.promise(load).pipe(
        Effect.flatMap((layer) => Layer.buildWithScope(layer, scope)),
        Effect.map((context) => Context.get(context, tag))
      )
    )
  )
