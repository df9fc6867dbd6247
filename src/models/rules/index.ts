/**
 * Rule-based models, the first rung of the model ladder: importing this module registers `rules-ner.v1`
 * (phrase lists, spaCy EntityRuler patterns, regexes), `rules-classify.v1` (keyword rules) and
 * `with-rules.v1` (any registered model combined with rules).
 */
import { registerModel } from '../registry.ts';
import { RulesClassifyModel } from './rules-classify-model.ts';
import { RULES_CLASSIFY_V1, RULES_NER_V1, WITH_RULES_V1 } from './rules-config.ts';
import { RulesNerModel } from './rules-ner-model.ts';
import { WithRulesModel } from './with-rules-model.ts';

registerModel(RULES_NER_V1, {
  description:
    'NER from rules: phrase lists, spaCy EntityRuler token patterns and regexes (optionally learnt phrases)',
  create: (config) => new RulesNerModel(config),
  load: (dir) => RulesNerModel.load(dir),
});

registerModel(RULES_CLASSIFY_V1, {
  description: 'Classification from keyword rules with a fallback class (optionally learnt keywords)',
  create: (config) => new RulesClassifyModel(config),
  load: (dir) => RulesClassifyModel.load(dir),
});

registerModel(WITH_RULES_V1, {
  description: 'Any registered model combined with rules, which override it or fill its gaps',
  create: (config) => new WithRulesModel(config),
  load: (dir) => WithRulesModel.load(dir),
});

export {
  type KeywordMatch,
  KeywordRuleEngine,
  type KeywordRuleRef,
  type KeywordRuleSet,
  type LearnedKeyword,
  learnKeywords,
} from './keyword-rule-set.ts';
export {
  type LearnedPhrase,
  NerRuleEngine,
  type NerRuleMatch,
  type NerRuleRef,
  type NerRuleSet,
  resolveNerRules,
  resolveOverlaps,
} from './ner-rule-set.ts';
export { learnPhrases } from './phrase-learning.ts';
export { regexTokenRanges, snapToTokens } from './regex-spans.ts';
export { RULES_CLASSIFY_FORMAT_VERSION, RulesClassifyModel } from './rules-classify-model.ts';
export {
  RULES_CLASSIFY_V1,
  RULES_NER_V1,
  type RulesClassifyConfig,
  type RulesNerConfig,
  rulesClassifyConfigSchema,
  rulesNerConfigSchema,
  WITH_RULES_V1,
  type WithRulesConfig,
  withRulesConfigSchema,
} from './rules-config.ts';
export { describeNerRule, RULES_NER_FORMAT_VERSION, RulesNerModel } from './rules-ner-model.ts';
export { isTitle, likeNumber, tokenShape } from './token-attributes.ts';
export { TokenPattern } from './token-pattern.ts';
export { TokenTrie } from './token-trie.ts';
export { combineSpans, WITH_RULES_FORMAT_VERSION, WithRulesModel } from './with-rules-model.ts';
