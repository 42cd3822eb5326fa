export declare const parse: (text: string) => never
declare const _default: { readonly parse: (text: string) => never }
export default _default
