package record

import "github.com/wscope/wscope/inspect"

// getDecoder reads an open event's "decoder": {"name", "why"}.
func (r *Reader) getDecoder(o *inspect.Open) error {
	return r.object("decoder", "an object", func(k string) (err error) {
		switch k {
		case "name":
			o.Decoder, _, err = r.getString("decoder.name")
		case "why":
			o.DecoderWhy, _, err = r.getString("decoder.why")
		default:
			err = r.sc.skip()
		}
		return err
	})
}

// getDecoded reads a msg event's "decoded": the units an application
// protocol decoder read, each field a string or, kept as its JSON text,
// any other value.
func (r *Reader) getDecoded() ([]inspect.Decoded, error) {
	return objects(r, "decoded", func(d *inspect.Decoded, k string) (err error) {
		switch k {
		case "proto":
			d.Protocol, _, err = r.getString("decoded.proto")
		case "type":
			d.Type, _, err = r.getString("decoded.type")
		case "summary":
			d.Summary, _, err = r.getString("decoded.summary")
		case "op":
			d.Op, _, err = r.getString("decoded.op")
		case "corr":
			d.Corr, _, err = r.getString("decoded.corr")
		case "role":
			var role string
			role, _, err = r.getString("decoded.role")
			d.CorrRole = inspect.ParseCorrRole(role)
		case "err":
			d.Err, _, err = r.getString("decoded.err")
		case "fields":
			d.Fields, err = r.getDecodedFields()
		default:
			err = r.sc.skip()
		}
		return err
	})
}

func (r *Reader) getDecodedFields() ([]inspect.DecodedField, error) {
	var fs []inspect.DecodedField
	err := r.object("decoded.fields", "an object", func(k string) error {
		f := inspect.DecodedField{Key: k}
		if r.sc.peek() == '"' {
			v, _, err := r.getString("decoded.fields." + k)
			f.Value = v
			fs = append(fs, f)
			return err
		}
		start := r.sc.i
		if err := r.sc.skip(); err != nil {
			return err
		}
		f.Value, f.JSON = string(r.sc.b[start:r.sc.i]), true
		fs = append(fs, f)
		return nil
	})
	return fs, err
}
