/**
 * The part of the Adaptive Card schema (http://adaptivecards.io/schemas/adaptive-card.json,
 * version 1.5, microsoft/AdaptiveCards schemas/1.5.0/adaptive-card.json) that the fake Teams
 * workflow enforces, written from that schema rather than copied: the top-level card
 * (type, version required, $schema, body, actions, fallbackText ...; no other property) and
 * the elements tocsin or a template author would use: TextBlock, RichTextBlock with
 * TextRun, FactSet with Fact, Container, ColumnSet with Column, Image, ActionSet, and the
 * actions Action.OpenUrl and Action.ToggleVisibility. Each with the schema's properties
 * and enums (case-insensitive, as the schema's own patterns accept) and nothing else
 * (`additionalProperties: false`, as in the schema). An element of another type fails:
 * the subset is strict where the full schema would accept more, never looser.
 */
const ci = (...values: string[]) => ({ type: 'string', pattern: `^(${values.map((v) => v.split('').map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c)).join('')).join('|')})$` });

const COLORS = ci('default', 'dark', 'light', 'accent', 'good', 'warning', 'attention');
const SIZES = ci('default', 'small', 'medium', 'large', 'extraLarge');
const WEIGHTS = ci('default', 'lighter', 'bolder');
const SPACING = ci('default', 'none', 'small', 'medium', 'large', 'extraLarge', 'padding');
const FONT_TYPES = ci('default', 'monospace');
const H_ALIGN = ci('left', 'center', 'right');
const CONTAINER_STYLES = ci('default', 'emphasis', 'good', 'attention', 'warning', 'accent');
const ACTION_STYLES = ci('default', 'positive', 'destructive');

/** Properties every element may have (Extendable.Element, Extendable.Item). */
const ELEMENT_COMMON = {
  id: { type: 'string' },
  isVisible: { type: 'boolean' },
  separator: { type: 'boolean' },
  spacing: SPACING,
  height: ci('auto', 'stretch'),
  requires: { type: 'object', additionalProperties: { type: 'string' } },
  fallback: {},
};

const element = (type: string, properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  required: ['type', ...required],
  additionalProperties: false,
  properties: { type: { const: type }, ...ELEMENT_COMMON, ...properties },
});

export const ADAPTIVE_CARD_SCHEMA = {
  $id: 'tocsin-test:adaptive-card-subset',
  definitions: {
    TextBlock: element(
      'TextBlock',
      {
        text: { type: 'string' },
        color: COLORS,
        fontType: FONT_TYPES,
        horizontalAlignment: H_ALIGN,
        isSubtle: { type: 'boolean' },
        maxLines: { type: 'number' },
        size: SIZES,
        weight: WEIGHTS,
        wrap: { type: 'boolean' },
        style: ci('default', 'heading'),
      },
      ['text'],
    ),
    TextRun: {
      type: 'object',
      required: ['type', 'text'],
      additionalProperties: false,
      properties: {
        type: { const: 'TextRun' },
        text: { type: 'string' },
        color: COLORS,
        fontType: FONT_TYPES,
        highlight: { type: 'boolean' },
        isSubtle: { type: 'boolean' },
        italic: { type: 'boolean' },
        size: SIZES,
        strikethrough: { type: 'boolean' },
        underline: { type: 'boolean' },
        weight: WEIGHTS,
        selectAction: { $ref: '#/definitions/Action.OpenUrl' },
      },
    },
    RichTextBlock: element('RichTextBlock', { inlines: { type: 'array', items: { anyOf: [{ $ref: '#/definitions/TextRun' }, { type: 'string' }] } }, horizontalAlignment: H_ALIGN }, ['inlines']),
    Fact: { type: 'object', required: ['title', 'value'], additionalProperties: false, properties: { title: { type: 'string' }, value: { type: 'string' } } },
    FactSet: element('FactSet', { facts: { type: 'array', items: { $ref: '#/definitions/Fact' } } }, ['facts']),
    Image: element('Image', { url: { type: 'string', format: 'uri-reference' }, altText: { type: 'string' }, size: ci('auto', 'stretch', 'small', 'medium', 'large'), style: ci('default', 'person'), horizontalAlignment: H_ALIGN, width: { type: 'string' } }, ['url']),
    Container: element(
      'Container',
      {
        items: { type: 'array', items: { $ref: '#/definitions/Element' } },
        style: CONTAINER_STYLES,
        bleed: { type: 'boolean' },
        minHeight: { type: 'string' },
        rtl: { type: ['boolean', 'null'] },
        verticalContentAlignment: ci('top', 'center', 'bottom'),
        selectAction: { $ref: '#/definitions/Action.OpenUrl' },
      },
      ['items'],
    ),
    Column: element('Column', { items: { type: 'array', items: { $ref: '#/definitions/Element' } }, style: CONTAINER_STYLES, width: { type: ['string', 'number'] }, bleed: { type: 'boolean' }, verticalContentAlignment: ci('top', 'center', 'bottom') }),
    ColumnSet: element('ColumnSet', { columns: { type: 'array', items: { $ref: '#/definitions/Column' } }, style: CONTAINER_STYLES, bleed: { type: 'boolean' }, horizontalAlignment: H_ALIGN }),
    ActionSet: element('ActionSet', { actions: { type: 'array', items: { $ref: '#/definitions/Action' } } }, ['actions']),
    'Action.OpenUrl': {
      type: 'object',
      required: ['type', 'url'],
      additionalProperties: false,
      properties: { type: { const: 'Action.OpenUrl' }, url: { type: 'string', format: 'uri-reference' }, title: { type: 'string' }, iconUrl: { type: 'string' }, id: { type: 'string' }, style: ACTION_STYLES, tooltip: { type: 'string' }, isEnabled: { type: 'boolean' }, mode: ci('primary', 'secondary'), fallback: {}, requires: { type: 'object' } },
    },
    'Action.ToggleVisibility': {
      type: 'object',
      required: ['type', 'targetElements'],
      additionalProperties: false,
      properties: { type: { const: 'Action.ToggleVisibility' }, targetElements: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'object', required: ['elementId'], properties: { type: { const: 'TargetElement' }, elementId: { type: 'string' }, isVisible: { type: ['boolean', 'null'] } }, additionalProperties: false }] } }, title: { type: 'string' }, id: { type: 'string' }, style: ACTION_STYLES, tooltip: { type: 'string' }, isEnabled: { type: 'boolean' }, mode: ci('primary', 'secondary'), fallback: {}, requires: { type: 'object' } },
    },
    Action: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['Action.OpenUrl', 'Action.ToggleVisibility'] } },
      if: { properties: { type: { const: 'Action.OpenUrl' } } },
      then: { $ref: '#/definitions/Action.OpenUrl' },
      else: { $ref: '#/definitions/Action.ToggleVisibility' },
    },
    Element: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['TextBlock', 'RichTextBlock', 'FactSet', 'Image', 'Container', 'ColumnSet', 'ActionSet'] } },
      allOf: ['TextBlock', 'RichTextBlock', 'FactSet', 'Image', 'Container', 'ColumnSet', 'ActionSet'].map((t) => ({
        if: { properties: { type: { const: t } } },
        then: { $ref: `#/definitions/${t}` },
      })),
    },
  },
  type: 'object',
  required: ['type', 'version'],
  additionalProperties: false,
  properties: {
    type: { const: 'AdaptiveCard' },
    version: { type: 'string', pattern: '^1\\.[0-6]$' },
    $schema: { type: 'string', format: 'uri' },
    body: { type: 'array', items: { $ref: '#/definitions/Element' } },
    actions: { type: 'array', items: { $ref: '#/definitions/Action' } },
    selectAction: { $ref: '#/definitions/Action.OpenUrl' },
    fallbackText: { type: 'string' },
    speak: { type: 'string' },
    lang: { type: 'string' },
    minHeight: { type: 'string' },
    rtl: { type: ['boolean', 'null'] },
    verticalContentAlignment: ci('top', 'center', 'bottom'),
  },
} as const;
