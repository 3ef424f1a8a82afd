package ftrack

// DecodeAnswerForTest decodes an /api answer into s's identity map.
func DecodeAnswerForTest(s *Session, data []byte) ([]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := newJSONDecoder(data, s.mergeEntityPairs).decodeDocument()
	if err != nil {
		return nil, err
	}
	return v.([]any), nil
}
